# The parameter of Get-ProcConnection that passes each engine option, to name it in warnings
# and in the engine's refusals of a parameter combination.
$script:ProcConnParameterOfOption = @{
    'tcp'          = '-Protocol TCP'
    'udp'          = '-Protocol UDP'
    'name'         = '-ProcessName'
    'pid'          = '-OwningProcess'
    'tree'         = '-IncludeChildProcess'
    'port'         = '-Port'
    'local-port'   = '-LocalPort'
    'remote-port'  = '-RemotePort'
    'local'        = '-LocalAddress'
    'remote'       = '-RemoteAddress'
    'state'        = '-State'
    'listening'    = '-Listening'
    'hash'         = '-IncludeImageHash'
    'stats'        = '-IncludeStatistics'
    'enable-stats' = '-EnableStatistics'
    'resolve'      = '-ResolveHostName'
}

function Invoke-ProcConnEngine {
    <#
    .SYNOPSIS
    Runs the procconn engine and writes its standard output as it comes, in batches of lines.

    .DESCRIPTION
    Lines are passed on in batches (a [string[]] each, at most $BatchSize lines): a batch goes as
    soon as it is full or the engine has nothing more to read at that moment, so a caller can
    turn lines into objects while the engine is still listing, and one that stops early
    (Select-Object -First) stops the engine. Batches let the caller parse many records with one
    JSON parse, several times faster than one parse per line. $InputText, when given, is the
    engine's standard input (pids too many for its command line, with --pid-file=-); an engine
    that ends without reading it is not waited for. After the engine ends:
    - exit 0: each line it wrote on stderr (what it could not read or find) becomes a warning
      of the calling command ($Cmdlet), so its -WarningVariable and -WarningAction apply; the
      engine's options it names (--name, --pid) are given as the parameters that pass them
      (-ProcessName, -OwningProcess);
    - exit 2: an ArgumentException with the engine's message (a command line it refused);
    - any other exit: an InvalidOperationException with the engine's message.
    These, and an engine that cannot be found or started, are engine faults
    (New-ProcConnEngineFault). An error raised downstream while a batch is being written passes
    through unchanged; either way, the engine is stopped when this function ends.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param(
        [Parameter(Mandatory)]
        [string[]] $ArgumentList,

        [Parameter(Mandatory)]
        [System.Management.Automation.PSCmdlet] $Cmdlet,

        [ValidateRange(1, 10000)]
        [int] $BatchSize = 100,

        [string] $InputText
    )

    $engine = Resolve-ProcConnEngine
    $start = [System.Diagnostics.ProcessStartInfo]::new($engine.FilePath)
    foreach ($a in @($engine.Arguments) + $ArgumentList) { $start.ArgumentList.Add($a) }
    $start.UseShellExecute = $false
    $start.RedirectStandardInput = $true
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.StandardInputEncoding = [System.Text.UTF8Encoding]::new($false)
    $start.StandardOutputEncoding = [System.Text.UTF8Encoding]::new($false)
    $start.StandardErrorEncoding = [System.Text.UTF8Encoding]::new($false)
    $start.Environment['NO_COLOR'] = '1'
    Write-Verbose "procconn engine ($($engine.Source)): $($engine.FilePath) $(@($engine.Arguments) + $ArgumentList -join ' ')"

    try {
        $process = [System.Diagnostics.Process]::Start($start)
    } catch {
        # Process.Start's own exception (not executable, wrong format) sits inside PowerShell's.
        $cause = if ($_.Exception.InnerException) { $_.Exception.InnerException } else { $_.Exception }
        throw (New-ProcConnEngineFault -Type ([System.InvalidOperationException]) -InnerException $cause -Message (
                "The procconn engine '$($engine.FilePath)' could not be started: $($cause.Message)"))
    }
    try {
        # Read stderr on the side, so a chatty engine never blocks on a full pipe.
        $stderr = $process.StandardError.ReadToEndAsync()
        if ($InputText) {
            # The engine reads its input whole before it lists anything, so this write ends once
            # it has; an engine that stopped first (a refused command line) closed the pipe, and
            # its exit code and message below say why.
            try { $process.StandardInput.Write($InputText) } catch [System.IO.IOException] {
                Write-Verbose "The engine did not read its input: $($_.Exception.Message)"
            }
        }
        try { $process.StandardInput.Close() } catch [System.IO.IOException] {
            Write-Verbose "Closing the engine's input: $($_.Exception.Message)"
        }
        $reader = $process.StandardOutput
        $batch = [System.Collections.Generic.List[string]]::new($BatchSize)
        $next = $reader.ReadLineAsync()
        while ($true) {
            # A read that cannot finish at once means the engine has paused: pass on what is
            # here before waiting (StreamReader.Peek would wait instead).
            if (-not $next.IsCompleted -and $batch.Count -gt 0) {
                Write-Output -NoEnumerate $batch.ToArray()
                $batch.Clear()
            }
            # Waited for in steps: PowerShell sees a request to stop (Stop-Job, a remote session
            # stopped, a host's Stop()) only between statements, not inside one blocking call.
            while (-not $next.IsCompleted) {
                [void][System.Threading.Tasks.Task]::WaitAny([System.Threading.Tasks.Task[]]@($next), 200)
            }
            $line = $next.GetAwaiter().GetResult()
            if ($null -eq $line) { break }
            if ($line.Length -gt 0) { $batch.Add($line) }
            if ($batch.Count -ge $BatchSize) {
                Write-Output -NoEnumerate $batch.ToArray()
                $batch.Clear()
            }
            $next = $reader.ReadLineAsync()
        }
        if ($batch.Count -gt 0) { Write-Output -NoEnumerate $batch.ToArray() }
        $process.WaitForExit()
        $messages = @($stderr.GetAwaiter().GetResult() -split '\r?\n' |
                Where-Object { $_ -ne '' } |
                ForEach-Object { $_ -replace '^procconn: ', '' })
        $code = $process.ExitCode
    } finally {
        # Reached early when the pipeline stops (Select-Object -First): the engine goes too.
        if (-not $process.HasExited) {
            try { $process.Kill($true) } catch { Write-Verbose "Stopping the engine: $_" }
        }
        $process.Dispose()
    }

    # Warnings and refusals name the parameters given, not the engine's options. An option in
    # quotes is one the engine does not know ('--x'): named as it is, it tells the versions differ.
    $messages = @($messages | ForEach-Object {
            [regex]::Replace($_, '(?<![\w''-])--([a-z][a-z-]*)(?![\w''-])', {
                    param($match)
                    $parameter = $script:ProcConnParameterOfOption[$match.Groups[1].Value]
                    if ($parameter) { $parameter } else { $match.Value }
                })
        })
    if ($code -eq 0) {
        foreach ($m in $messages) {
            $Cmdlet.WriteWarning($m)
        }
        return
    }
    # One line each, as the engine wrote them: what it could not see before it failed stays
    # apart from the failure.
    $text = if ($messages.Count) { $messages -join "`n" } else { "procconn exited with code $code and no message" }
    $type = if ($code -eq 2) { [System.ArgumentException] } else { [System.InvalidOperationException] }
    throw (New-ProcConnEngineFault -Type $type -Message $text)
}
