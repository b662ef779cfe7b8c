function Join-ProcConnCommandLine {
    # One Windows command-line string from arguments, for a scheduled task's action. Arguments
    # here are flags and file paths: a path with spaces is quoted. A double quote cannot occur
    # in a Windows path, and no argument ends with a backslash (they are files, not folders), so
    # nothing inside the quotes needs escaping; anything else is refused rather than mangled.
    param([Parameter(Mandatory)] [string[]] $ArgumentList)
    $parts = foreach ($a in $ArgumentList) {
        if ($a.Contains('"') -or ($a -match '\s' -and $a.EndsWith('\'))) {
            throw [System.ArgumentException]::new("Cannot put '$a' on a scheduled task's command line: it contains a double quote or ends with a backslash")
        }
        if ($a -eq '' -or $a -match '\s') { '"' + $a + '"' } else { $a }
    }
    $parts -join ' '
}
