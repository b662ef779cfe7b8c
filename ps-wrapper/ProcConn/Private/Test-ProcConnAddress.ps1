function Test-ProcConnAddress {
    # True for an IPv4 or IPv6 address, or a CIDR block (10.0.0.0/8, fe80::/10), as the engine's
    # --local and --remote take them; [ipaddress] alone would also take "1" or "1.2.3".
    param([string] $Text)
    $address, $prefix, $extra = $Text.Trim() -split '/'
    if ($null -ne $extra) { return $false }
    $parsed = $null
    $isV4 = $address -match '^\d{1,3}(\.\d{1,3}){3}$'
    if (-not ($isV4 -or $address.Contains(':')) -or -not [ipaddress]::TryParse($address, [ref]$parsed)) {
        return $false
    }
    if ($null -eq $prefix) { return $true }
    $max = if ($isV4) { 32 } else { 128 }
    $prefix -match '^\d{1,3}$' -and [int]$prefix -le $max
}
