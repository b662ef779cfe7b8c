function Resolve-ProcConnEngine {
    <#
    .SYNOPSIS
    Finds the procconn engine: the command to start and the arguments that come before procconn's own.

    .DESCRIPTION
    Looks, in this order, for:
    1. a procconn executable in the module folder, then in the folder that holds the module folder
       (the layout of the release bundles);
    2. the file named by the PROCCONN_EXE environment variable (a relative path is taken from the
       current location, Get-Location, and the engine is started by its full path);
    3. the procconn checkout the module sits in (ps-wrapper/ProcConn), run as the checkout's
       package.json runs it, with the Deno in its node_modules or else the one on the PATH;
    4. procconn on the PATH.
    Throws one error naming every place it looked when none is there (an engine fault, see
    New-ProcConnEngineFault).
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param()

    $exeName = if ($IsWindows) { 'procconn.exe' } else { 'procconn' }
    $looked = [System.Collections.Generic.List[string]]::new()

    $moduleFolder = Split-Path -Parent $PSScriptRoot
    foreach ($folder in $moduleFolder, (Split-Path -Parent $moduleFolder)) {
        $candidate = Join-Path $folder $exeName
        if (Test-Path -LiteralPath $candidate -PathType Leaf) {
            return [pscustomobject]@{ FilePath = $candidate; Arguments = [string[]]@(); Source = 'module' }
        }
        $looked.Add($candidate)
    }

    if ($env:PROCCONN_EXE) {
        # Resolved here, once: Test-Path would take a relative path from the current location and
        # Process.Start from the process's working directory, which Set-Location does not change.
        $file = [System.IO.Path]::GetFullPath($env:PROCCONN_EXE, $ExecutionContext.SessionState.Path.CurrentFileSystemLocation.ProviderPath)
        if (-not (Test-Path -LiteralPath $file -PathType Leaf)) {
            $shown = if ($file -ne $env:PROCCONN_EXE) { "'$($env:PROCCONN_EXE)' ($file)" } else { "'$file'" }
            throw (New-ProcConnEngineFault -Type ([System.IO.FileNotFoundException]) -Message (
                    "PROCCONN_EXE names $shown, which is not a file: set it to the procconn executable or remove it"))
        }
        return [pscustomobject]@{ FilePath = $file; Arguments = [string[]]@(); Source = 'PROCCONN_EXE' }
    }
    $looked.Add('$env:PROCCONN_EXE (not set)')

    $checkout = Get-ProcConnCheckoutEngine
    if ($checkout.Engine) { return $checkout.Engine }
    $looked.Add($checkout.Looked)

    $onPath = Get-Command -Name $exeName -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if ($onPath) {
        return [pscustomobject]@{ FilePath = $onPath.Source; Arguments = [string[]]@(); Source = 'PATH' }
    }
    $looked.Add("$exeName on the PATH")

    throw (New-ProcConnEngineFault -Type ([System.IO.FileNotFoundException]) -Message (
            "The procconn engine was not found. Looked in: $($looked -join '; '). Put $exeName in the module folder or set PROCCONN_EXE to its path"))
}
