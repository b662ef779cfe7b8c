function Get-ProcConnUnprotectedPath {
    <#
    .SYNOPSIS
    The paths, of those given, outside the Program Files folders, which only administrators may change by default.

    .DESCRIPTION
    A scheduled task that runs a file as another account (SYSTEM by default) hands that account's
    rights to whoever may replace the file or the folder it is in. By default only administrators
    may change the Program Files folders (ProgramFiles, ProgramW6432, ProgramFiles(x86),
    ProgramFiles(Arm)); a path anywhere else (a user's profile, the CurrentUser module scope, a
    removable drive, C:\Tools, and parts of the Windows folder such as C:\Windows\Temp) may be
    writable by others. An installer that opened its own folder to users is not seen. Paths are
    compared whole, by folder, without regard to case: 'C:\Program Files Evil' is not inside
    'C:\Program Files'.

    .OUTPUTS
    [string], each full path that is outside those folders.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [AllowEmptyCollection()]
        [string[]] $Path
    )

    $separators = [char[]]@([System.IO.Path]::DirectorySeparatorChar, [System.IO.Path]::AltDirectorySeparatorChar)
    $protected = @(foreach ($root in $env:ProgramFiles, $env:ProgramW6432, ${env:ProgramFiles(x86)}, ${env:ProgramFiles(Arm)}) {
            if ($root) { [System.IO.Path]::GetFullPath($root).TrimEnd($separators) + [System.IO.Path]::DirectorySeparatorChar }
        })
    foreach ($item in $Path) {
        $full = [System.IO.Path]::GetFullPath($item)
        $inside = $protected | Where-Object { $full.StartsWith($_, [System.StringComparison]::OrdinalIgnoreCase) }
        if (-not $inside) { $full }
    }
}
