function ConvertTo-ProcConnTime {
    # ConvertFrom-Json already turns ISO 8601 text into a UTC DateTime; shown in local time, as
    # Get-Process shows StartTime, so that comparisons with Get-Date hold.
    param($Value)
    if ($null -eq $Value) { return $null }
    if ($Value -is [datetime]) { return $Value.ToLocalTime() }
    [datetime]::Parse($Value, [cultureinfo]::InvariantCulture, [Globalization.DateTimeStyles]::RoundtripKind).ToLocalTime()
}
