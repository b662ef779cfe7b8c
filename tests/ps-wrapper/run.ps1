# Runs the ProcConn Pester tests given as arguments (files or folders) and ends with one line
# "ok | N passed | N failed" (or "FAILED | ..."), the summary form the test runner counts.
# Started by run.sh, which provides PowerShell and Pester.
param([Parameter(Mandatory, ValueFromRemainingArguments)] [string[]] $Path)
$ErrorActionPreference = 'Stop'
Import-Module $env:PROCCONN_PESTER -Force
$config = New-PesterConfiguration
$config.Run.Path = $Path
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.Output.RenderMode = 'Plaintext'
$result = Invoke-Pester -Configuration $config
# A container that failed to load (a syntax error, a failing BeforeAll) fails too.
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
$verdict = if ($failed -eq 0 -and $result.PassedCount -gt 0) { 'ok' } else { 'FAILED' }
"$verdict | $($result.PassedCount) passed | $failed failed"
exit $(if ($verdict -eq 'ok') { 0 } else { 1 })
