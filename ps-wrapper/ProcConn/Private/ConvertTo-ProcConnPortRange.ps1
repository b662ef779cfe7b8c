function ConvertTo-ProcConnPortRange {
    <#
    .SYNOPSIS
    A port (443) or a range of ports (8000-8999) as its first and last port, or $null when the
    engine would refuse it.

    .DESCRIPTION
    Follows the engine's --port parser (cli/args.ts): whole numbers from 0 to 65535 in decimal
    digits (leading zeros allowed), spaces around them allowed, and a range's first port not
    after its last.
    #>
    [OutputType([int[]])]
    param([AllowNull()] [object] $Value)

    if ($null -eq $Value) { return $null }
    $ends = "$Value" -split '-'
    if ($ends.Count -gt 2) { return $null }
    foreach ($end in $ends) {
        if (-not (Test-ProcConnNumber $end 65535)) { return $null }
    }
    $first = [int]$ends[0].Trim()
    $last = [int]$ends[-1].Trim()
    if ($first -gt $last) { return $null }
    , [int[]]@($first, $last)
}
