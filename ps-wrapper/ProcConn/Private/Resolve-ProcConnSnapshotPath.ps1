function Resolve-ProcConnSnapshotPath {
    <#
    .SYNOPSIS
    The file-system path of a snapshot file (-Path of Export-ProcConnectionSnapshot and
    Register-ProcConnectionSnapshotTask), relative to the caller's current location.

    .DESCRIPTION
    Throws an ArgumentException for:
    - a blank path (' '), which would otherwise name a file of spaces;
    - a path of another provider (Variable:\x, Env:\x, HKCU:\x): the engine writes a file, and the
      provider path (x) would otherwise be written as a file in the process's working directory;
    - a name ending in .json without -Format: the engine refuses to guess whether that is CSV or
      NDJSON (one JSON document cannot take appended snapshots). It would say so itself, in terms
      of its command line (--format); a scheduled task would fail at every run.
    - a path with the wildcards * or ?: a snapshot goes to one file, which would otherwise be
      made with a * in its name (brackets, also wildcards elsewhere, are taken as they are: a
      file named conns[v2].csv is written as such);
    - a drive this module cannot see (one made with New-PSDrive inside a function or a script
      is that scope's own), said with what to do instead.
    The format of any other name is left to the engine (.ndjson and .jsonl NDJSON, others CSV).
    #>
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] [string] $Path,
        [AllowEmptyString()] [string] $Format,
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet
    )
    if ($Path.Trim() -eq '') {
        throw [System.ArgumentException]::new("The path '$Path' is blank: give the snapshot file's name, such as ./conns.csv")
    }
    if ($Path.IndexOfAny([char[]]'*?') -ge 0) {
        throw [System.ArgumentException]::new(
            "'$Path' has a wildcard (* or ?): a snapshot is written to one file; give its name")
    }
    $provider = $null
    $drive = $null
    try {
        $file = $Cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path, [ref]$provider, [ref]$drive)
    } catch {
        # A drive that does not exist (Q:\x): the method's own exception sits inside PowerShell's.
        $cause = if ($_.Exception.InnerException) { $_.Exception.InnerException } else { $_.Exception }
        $hint = if ($cause -is [System.Management.Automation.DriveNotFoundException]) {
            ' (a drive made with New-PSDrive inside a function or a script belongs to it, and this module cannot see it: make it with -Scope Global, or give the file-system path)'
        }
        throw [System.ArgumentException]::new("Cannot use '$Path' as a file path: $($cause.Message)$hint", $cause)
    }
    if ($provider.ImplementingType -ne [Microsoft.PowerShell.Commands.FileSystemProvider]) {
        throw [System.ArgumentException]::new(
            "'$Path' is not a file-system path (it belongs to the $($provider.Name) provider): give a file path, such as ./conns.csv")
    }
    if (-not $Format -and $file.EndsWith('.json', [System.StringComparison]::OrdinalIgnoreCase)) {
        throw [System.ArgumentException]::new(
            "'$file' ends in .json, but a snapshot file is CSV or NDJSON (one JSON document cannot take appended snapshots): give -Format Ndjson or -Format Csv, or name the file .ndjson or .csv")
    }
    $file
}
