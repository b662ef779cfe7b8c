# Shared by the ProcConn Pester tests: where things are, stand-in engines and a socket-holding child.
$script:Repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:ModuleSource = Join-Path $script:Repo 'ps-wrapper/ProcConn'
$script:ModuleManifest = Join-Path $script:ModuleSource 'ProcConn.psd1'
$script:Deno = Join-Path $script:Repo 'node_modules/deno/deno'

function New-TestFolder {
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) "procconn-ps-$([guid]::NewGuid().ToString('N').Substring(0, 12))"
    New-Item -ItemType Directory -Path $dir | Out-Null
    $dir
}

# A record as the engine writes it (every field), for stand-in engines.
function New-TestRecordLine {
    param([int] $LocalPort = 4242, [int] $OwningProcess = 77, [string] $ProcessName = 'stand-in')
    [ordered]@{
        protocol = 'TCP'; family = 'IPv4'; localAddress = '127.0.0.1'; localPort = $LocalPort
        remoteAddress = $null; remotePort = $null; state = 'LISTEN'; pid = $OwningProcess
        processName = $ProcessName; processPath = "/opt/$ProcessName"; parentPid = 1
        processStartTime = '2026-11-22T01:02:03.000Z'; commandLine = $ProcessName; userName = 'root'
        sessionId = $null; services = $null; imageSha256 = $null; connectionCreated = $null
        bytesIn = $null; bytesOut = $null; segmentsIn = $null; segmentsOut = $null
        remoteHostName = $null; unavailable = @{ connectionCreated = 'not-supported' }
    } | ConvertTo-Json -Compress
}

# Pipes objects with these ids into Get-ProcConnection -Protocol TCP -State Listen -Verbose and
# returns, apart, the engine runs it reported, its rows and its warnings.
function Invoke-TestPipedIds {
    param([Parameter(Mandatory)] [uint32[]] $Ids)
    $out = @($Ids | ForEach-Object { [pscustomobject]@{ Id = $_ } } |
            Get-ProcConnection -Protocol TCP -State Listen -WarningVariable warned -WarningAction SilentlyContinue -Verbose 4>&1)
    $isVerbose = { param($o) $o -is [System.Management.Automation.VerboseRecord] }
    [pscustomobject]@{
        Runs     = @($out | Where-Object { (& $isVerbose $_) -and "$_" -like 'procconn engine*' })
        Rows     = @($out | Where-Object { -not (& $isVerbose $_) })
        Warnings = @($warned | ForEach-Object { "$_" })
    }
}

# A stand-in engine: a shell script that records its arguments (one per line) in $Path.args,
# writes $Stdout, then $Stderr on stderr, sleeps $Sleep seconds and exits with $ExitCode.
function New-StandInEngine {
    param(
        [Parameter(Mandatory)] [string] $Path,
        [string[]] $Stdout = @(),
        [string] $Stderr = '',
        [int] $ExitCode = 0,
        [int] $Sleep = 0,
        # Keep what comes on standard input in <Path>.stdin (else it is never read).
        [switch] $ReadStdin
    )
    $quote = { param($s) "'" + ($s -replace "'", "'\''") + "'" }
    $lines = @('#!/bin/sh', "echo `$`$ > $(& $quote "$Path.pid")", "printf '%s\n' `"`$@`" > $(& $quote "$Path.args")")
    if ($ReadStdin) { $lines += "cat > $(& $quote "$Path.stdin")" }
    foreach ($l in $Stdout) { $lines += "printf '%s\n' $(& $quote $l)" }
    if ($Stderr) { $lines += "printf '%s\n' $(& $quote $Stderr) >&2" }
    if ($Sleep) { $lines += "sleep $Sleep" }
    $lines += "exit $ExitCode"
    Set-Content -LiteralPath $Path -Value ($lines -join "`n") -NoNewline
    chmod +x $Path
    $Path
}

# A copy of the module outside the checkout, so that only the engines a test puts there are found.
function Copy-TestModule {
    param([Parameter(Mandatory)] [string] $Destination)
    $target = Join-Path $Destination 'ProcConn'
    Copy-Item -Recurse -LiteralPath $script:ModuleSource -Destination $target
    Join-Path $target 'ProcConn.psd1'
}

# Runs a script in a fresh pwsh with the given environment (and working directory) and returns its
# exit code and output.
function Invoke-TestPwsh {
    param([Parameter(Mandatory)] [string] $Script, [hashtable] $Environment = @{}, [string] $WorkingDirectory)
    $start = [System.Diagnostics.ProcessStartInfo]::new($env:PROCCONN_TEST_PWSH)
    foreach ($a in '-NoProfile', '-NonInteractive', '-Command', $Script) { $start.ArgumentList.Add($a) }
    if ($WorkingDirectory) { $start.WorkingDirectory = $WorkingDirectory }
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.UseShellExecute = $false
    $start.Environment['NO_COLOR'] = '1'
    foreach ($k in $Environment.Keys) { $start.Environment[$k] = $Environment[$k] }
    $p = [System.Diagnostics.Process]::Start($start)
    $err = $p.StandardError.ReadToEndAsync()
    $out = $p.StandardOutput.ReadToEnd()
    $p.WaitForExit()
    [pscustomobject]@{ ExitCode = $p.ExitCode; Stdout = $out; Stderr = $err.GetAwaiter().GetResult() }
}

# The socket-holding child of the other test tiers (tests/_socket_child.ts), run with the
# checkout's Deno: TCP listeners and a connection on 127.0.0.1 and ::1, UDP on 127.0.0.1.
function Start-SocketChild {
    $start = [System.Diagnostics.ProcessStartInfo]::new($script:Deno)
    foreach ($a in 'run', '-A', '--no-lock', (Join-Path $script:Repo 'tests/_socket_child.ts')) { $start.ArgumentList.Add($a) }
    $start.RedirectStandardInput = $true
    $start.RedirectStandardOutput = $true
    $start.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($start)
    $line = $process.StandardOutput.ReadLine()
    if (-not $line) { throw 'The socket child printed nothing' }
    [pscustomobject]@{ Process = $process; Sockets = $line | ConvertFrom-Json }
}

function Stop-SocketChild {
    param($Child)
    if (-not $Child) { return }
    $Child.Process.StandardInput.Close()
    if (-not $Child.Process.WaitForExit(10000)) { $Child.Process.Kill($true) }
    $Child.Process.Dispose()
}

# A bash process running $Script with $Arguments ($1, $2, ...) until its stdin closes
# (Stop-TestShell). Scripts name themselves by writing /proc/$$/comm, the process name Linux
# reports (at most 15 bytes), and hold sockets through bash's /dev/tcp.
function Start-TestShell {
    param([Parameter(Mandatory)] [string] $Script, [string[]] $Arguments = @())
    $start = [System.Diagnostics.ProcessStartInfo]::new('/bin/bash')
    foreach ($a in @('-c', $Script, 'test-shell') + $Arguments) { $start.ArgumentList.Add($a) }
    $start.RedirectStandardInput = $true
    $start.UseShellExecute = $false
    [System.Diagnostics.Process]::Start($start)
}

function Stop-TestShell {
    param($Process)
    if (-not $Process) { return }
    $Process.StandardInput.Close()
    if (-not $Process.WaitForExit(10000)) { $Process.Kill($true) }
    $Process.Dispose()
}

# Waits until a process started by Start-TestShell has taken its name (its first command).
function Wait-TestProcessName {
    param([Parameter(Mandatory)] [int] $Id, [Parameter(Mandatory)] [string] $Name)
    $deadline = [datetime]::UtcNow.AddSeconds(10)
    while ((Get-Process -Id $Id -ErrorAction Ignore).ProcessName -ne $Name) {
        if ([datetime]::UtcNow -gt $deadline) { throw "Process $Id did not take the name '$Name'" }
        Start-Sleep -Milliseconds 20
    }
}

# A TCP listener of this PowerShell process on a free loopback port.
function Start-TestListener {
    param([ipaddress] $Address = [ipaddress]::Loopback)
    $listener = [System.Net.Sockets.TcpListener]::new($Address, 0)
    $listener.Start()
    $listener
}

# What a test file leaves: its listener, the module, its folder.
function Remove-TestState {
    param($Listener, [string] $Folder)
    if ($Listener) { $Listener.Stop() }
    Remove-Module ProcConn -ErrorAction Ignore
    if ($Folder) { Remove-Item -Recurse -Force -LiteralPath $Folder -ErrorAction Ignore }
}
