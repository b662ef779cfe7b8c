function ConvertTo-ProcConnAddress {
    <#
    .SYNOPSIS
    The text the engine's --local and --remote take for an address or CIDR block, or $null when the
    engine would refuse it.

    .DESCRIPTION
    Follows the engine's parser (core/filter.ts parseCidr, core/address.ts parseAddress) rule for
    rule, so that parameter validation refuses exactly what the engine would: an IPv4 address is
    four decimal numbers up to 255; an IPv6 address is hex groups with at most one ::, optionally
    ending in an IPv4 address; a /prefix is 0-32 or 0-128. A %zone is an interface index as the
    listing prints it (fe80::1%4), and only a link-local address (fe80::/10) or an interface- or
    link-local multicast group (ff01::/16, ff02::/16) has one.
    [ipaddress]::TryParse is not used: it also takes "1", "0x7f.1" and "[::1]:80", which the
    engine refuses.

    An IPv6 address in brackets, as the default table and URLs write it ([::1], [fe80::1%3]/64),
    is taken without its brackets.
    #>
    [OutputType([string])]
    param([AllowEmptyString()] [string] $Text)

    $Text = $Text.Trim()
    if ($Text -match '\A\[([^\[\]/]*)\](/.*)?\z') {
        if (-not $Matches[1].Contains(':')) { return $null }
        $Text = $Matches[1] + $Matches[2]
    }
    $parts = $Text -split '/'
    if ($parts.Count -gt 2) { return $null }
    $address, $zone = $parts[0] -split '%', 2

    $isV4 = {
        param($t)
        $octets = $t -split '\.'
        # No leading zeros, as the engine: 010 is 8 to inet_aton and 10 to others.
        $octets.Count -eq 4 -and -not ($octets | Where-Object { $_ -notmatch '\A(0|[1-9][0-9]{0,2})\z' -or [int]$_ -gt 255 })
    }
    $max = 32
    if (-not (& $isV4 $address)) {
        $max = 128
        if ($address -notmatch '\A[0-9a-fA-F:.]+\z' -or ($address -split '::').Count -gt 2) { return $null }
        $body = $address
        if ($address.Contains('.')) {
            # An IPv4 tail (::ffff:10.1.2.3) stands for the last two groups.
            $lastColon = $address.LastIndexOf(':')
            if (-not (& $isV4 $address.Substring($lastColon + 1))) { return $null }
            $body = $address.Substring(0, $lastColon + 1) + '0:0'
        }
        $halves = $body -split '::'
        $head = @(if ($halves[0]) { $halves[0] -split ':' })
        $tail = @(if ($halves.Count -eq 2 -and $halves[1]) { $halves[1] -split ':' })
        $count = $head.Count + $tail.Count
        if (($halves.Count -eq 1 -and $count -ne 8) -or ($halves.Count -eq 2 -and $count -gt 7)) { return $null }
        foreach ($group in $head + $tail) {
            if ($group -notmatch '\A[0-9a-fA-F]{1,4}\z') { return $null }
        }
        $first = if ($head.Count -gt 0) { [Convert]::ToInt32($head[0], 16) } else { 0 }
        $scoped = ($first -band 0xffc0) -eq 0xfe80 -or
            (($first -band 0xff00) -eq 0xff00 -and ($first -band 0xf) -in 1, 2)
    }
    if ($null -ne $zone -and ($max -eq 32 -or -not $scoped -or $zone -notmatch '\A[0-9]{1,10}\z' -or
            [long]$zone -gt [uint32]::MaxValue)) { return $null }
    if ($parts.Count -eq 2 -and ($parts[1] -notmatch '\A[0-9]{1,3}\z' -or [int]$parts[1] -gt $max)) { return $null }
    $Text
}
