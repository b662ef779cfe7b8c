// Runs one PowerShell script file with arguments in a runspace of its own and writes every
// stream it produces to stdout as text, as it comes. Exits with the script's $LASTEXITCODE, or 1
// when the script failed without setting one.
using System.Management.Automation;
using System.Management.Automation.Runspaces;

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: pwsh.exe SCRIPT.ps1 [ARGUMENTS...]");
    return 2;
}
var session = InitialSessionState.CreateDefault();
session.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Bypass;
using var shell = PowerShell.Create(session);
var output = new PSDataCollection<PSObject>();
output.DataAdded += (_, e) =>
{
    Console.WriteLine(output[e.Index]?.ToString());
    Console.Out.Flush();
};
shell.AddScript("param($Path, $Rest) & $Path @Rest *>&1 | Out-String -Stream -Width 240")
    .AddParameter("Path", args[0])
    .AddParameter("Rest", args[1..]);
try
{
    shell.Invoke(null, output);
}
catch (Exception ex)
{
    Console.Error.WriteLine(ex.ToString());
    return 1;
}
foreach (var error in shell.Streams.Error) Console.Error.WriteLine(error.ToString());
var code = shell.Runspace.SessionStateProxy.GetVariable("LASTEXITCODE");
return code is null ? (shell.HadErrors ? 1 : 0) : Convert.ToInt32(code);
