function Join-ProcConnPortList {
    <#
    .SYNOPSIS
    The ports and ranges given (each valid for ConvertTo-ProcConnPortRange) as one short list for
    the engine's --port, --local-port or --remote-port: sorted, and consecutive or overlapping ports
    merged into ranges.

    .DESCRIPTION
    -LocalPort (49152..65535) gives 16,384 numbers: as one list, 92,000 characters, which no
    Windows command line holds (32,767 characters). Merged, it is '49152-65535'.
    #>
    [OutputType([string])]
    param([Parameter(Mandatory)] [string[]] $Value)

    $ranges = @($Value | ForEach-Object { , (ConvertTo-ProcConnPortRange $_) } |
            Sort-Object -Property { $_[0] }, { $_[1] })
    $merged = [System.Collections.Generic.List[int[]]]::new()
    foreach ($range in $ranges) {
        $last = $merged.Count - 1
        if ($last -ge 0 -and $range[0] -le $merged[$last][1] + 1) {
            $merged[$last][1] = [Math]::Max($merged[$last][1], $range[1])
        } else {
            $merged.Add([int[]]@($range[0], $range[1]))
        }
    }
    ($merged | ForEach-Object { if ($_[0] -eq $_[1]) { "$($_[0])" } else { '{0}-{1}' -f $_[0], $_[1] } }) -join ','
}
