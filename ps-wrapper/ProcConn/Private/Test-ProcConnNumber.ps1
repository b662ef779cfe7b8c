function Test-ProcConnNumber {
    # Whether a value is a whole number from 0 to $Most in decimal digits, spaces around it allowed:
    # no sign, fraction, hex prefix or group separator, in any culture. Ports and process ids are
    # checked with it before they become numbers, since PowerShell would turn '' into 0.
    param(
        [AllowNull()] [object] $Value,
        [Parameter(Mandatory)] [uint32] $Most
    )
    if ($null -eq $Value) { return $false }
    $number = [uint32]0
    [uint32]::TryParse("$Value".Trim(), [System.Globalization.NumberStyles]::None,
        [cultureinfo]::InvariantCulture, [ref]$number) -and $number -le $Most
}
