function Export-ProcConnectionSnapshot {
    <#
    .SYNOPSIS
    Writes a snapshot of every endpoint, with its time and host, to a CSV or NDJSON file.

    .DESCRIPTION
    Export-ProcConnectionSnapshot runs `procconn snapshot`: every endpoint with its process, and on
    every row the same snapshotTime (UTC) and the hostName. A snapshot is written whole or not at
    all: with -Append it is added in one write under a lock file (Path.lock), so snapshots taken at
    the same time never interleave, and the header is written only when the file is new or empty;
    without -Append the file is replaced through a temporary file and a rename. If anything fails
    (disk full, no permission), the file is left as it was and the command stops with the error.

    A snapshot holds every endpoint; filter when reading it back
    (Import-Csv conns.csv | Where-Object state -eq ESTABLISHED). The columns are procconn's record
    fields (see about_ProcConn).

    .PARAMETER Path
    The file to write. Relative paths are relative to the current location. It must be a
    file-system path: a path of another provider (Variable:\x, Env:\x) is refused.

    .PARAMETER Append
    Adds the snapshot to the end of the file instead of replacing it.

    .PARAMETER Format
    Csv or Ndjson (one JSON record per line). Without it the file's name decides, as for
    procconn snapshot: NDJSON for a name ending in .ndjson or .jsonl, CSV for any other; a name
    ending in .json needs -Format (one JSON document cannot take appended snapshots).

    .PARAMETER PassThru
    Writes the file's FileInfo to the pipeline when done.

    .EXAMPLE
    Export-ProcConnectionSnapshot -Path C:\Logs\conns.csv -Append

    Adds one snapshot to C:\Logs\conns.csv, creating it with a header the first time.

    .EXAMPLE
    Export-ProcConnectionSnapshot -Path .\now.ndjson -PassThru

    Replaces now.ndjson with a snapshot in NDJSON (the name says so) and returns the file.

    .EXAMPLE
    Export-ProcConnectionSnapshot -Path .\conns.log -Format Ndjson -Append

    Adds a snapshot in NDJSON to conns.log, whose name does not say the format.

    .EXAMPLE
    Import-Csv C:\Logs\conns.csv | Where-Object { $_.state -eq 'ESTABLISHED' -and $_.processName -eq 'pwsh.exe' } | Group-Object snapshotTime

    Reads the snapshots back: PowerShell 7's established connections per snapshot.

    .OUTPUTS
    None, or System.IO.FileInfo with -PassThru.

    .LINK
    Register-ProcConnectionSnapshotTask

    .LINK
    about_ProcConn
    #>
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType([System.IO.FileInfo])]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [switch] $Append,

        [ValidateSet('Csv', 'Ndjson')]
        [string] $Format,

        [switch] $PassThru
    )

    try {
        $file = Resolve-ProcConnSnapshotPath -Path $Path -Format $Format -Cmdlet $PSCmdlet
    } catch {
        $PSCmdlet.ThrowTerminatingError((New-ProcConnErrorRecord $_.Exception 'ProcConnPath' $Path))
    }
    $operation = if ($Append) { 'Append a procconn snapshot' } else { 'Write a procconn snapshot (replacing the file)' }
    if (-not (Confirm-ProcConnAction -Cmdlet $PSCmdlet -Target $file -Action $operation)) { return }
    # --format only when asked for: otherwise the engine's own rule (the file's name) applies.
    $arguments = [string[]]@('snapshot', '--out', $file)
    if ($Format) { $arguments += '--format', $Format.ToLowerInvariant() }
    if ($Append) { $arguments += '--append' }
    try {
        Invoke-ProcConnEngine -ArgumentList $arguments -Cmdlet $PSCmdlet | Out-Null
    } catch {
        $PSCmdlet.ThrowTerminatingError((New-ProcConnErrorRecord $_.Exception 'ProcConnSnapshot' $file -Failure WriteError))
    }
    if ($PassThru) { Get-Item -LiteralPath $file }
}
