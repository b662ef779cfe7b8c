# ProcConn: the procconn engine's records as PowerShell objects.
# One function per file; only the Public ones are exported (see ProcConn.psd1).
Set-StrictMode -Version 3.0

foreach ($folder in 'Private', 'Public') {
    # -LiteralPath: a folder named like 'IR kit [v2]' is not a wildcard pattern.
    foreach ($file in Get-ChildItem -LiteralPath (Join-Path $PSScriptRoot $folder) -Filter '*.ps1') {
        . $file.FullName
    }
}

# How two properties read as text in Export-Csv, as procconn's own CSV writes them: Unavailable
# (why fields are empty) as field=reason;field=reason, Services as a;b. "$x" gives the same for
# Unavailable; Services, a list, is joined there by $OFS (a space), as any list is.
# Update-TypeData -Force rather than a types file, so a second import (another copy of the module,
# or -Force) replaces the members instead of failing.
# The same for the copies that Import-Clixml and remoting (Invoke-Command) hand back.
foreach ($prefix in '', 'Deserialized.') {
    Update-TypeData -TypeName "${prefix}ProcConn.Services" -MemberType ScriptMethod -MemberName ToString -Force -Value {
        $this -join ';'
    }
    Update-TypeData -TypeName "${prefix}ProcConn.Unavailable" -MemberType ScriptMethod -MemberName ToString -Force -Value {
        ($this.PSObject.Properties | ForEach-Object { '{0}={1}' -f $_.Name, $_.Value }) -join ';'
    }
}

# Id, the owning process's id as [int], as a Process object has it: piped to Stop-Process, a row
# binds -Id. Without it Stop-Process binds -Name from ProcessName and acts on every process of that
# name (Linux) or finds none (Windows, whose names end in .exe). Get-Process prefers -Name all the
# same: the help says to use Get-Process -Id $_.OwningProcess.
Update-TypeData -TypeName ProcConn.Connection -MemberType ScriptProperty -MemberName Id -Force -Value {
    if ($null -ne $this.OwningProcess -and $this.OwningProcess -le [int]::MaxValue) { [int]$this.OwningProcess }
}
