function New-ProcConnErrorRecord {
    # The error record a public command terminates with, from an exception of the engine helpers:
    # a refused value is InvalidArgument, a missing engine ObjectNotFound, output the engine cannot
    # have written (not JSON, a field missing) InvalidResult. A failure the engine reports (exit
    # code 1) is PermissionDenied when it names a refused permission (EACCES, EPERM),
    # ObjectNotFound when it names a folder that does not exist (ENOENT, ENOTDIR), and otherwise
    # the category the command gives for what it was doing (-Failure: WriteError for a snapshot).
    param(
        [Parameter(Mandatory)] [System.Exception] $Exception,
        [Parameter(Mandatory)] [string] $ErrorId,
        [object] $Target,
        [System.Management.Automation.ErrorCategory] $Failure = 'NotSpecified'
    )
    $category = if ($Exception -is [System.ArgumentException]) { 'InvalidArgument' }
    elseif ($Exception -is [System.IO.FileNotFoundException]) { 'ObjectNotFound' }
    elseif ($Exception -is [System.IO.InvalidDataException]) { 'InvalidResult' }
    elseif ($Exception -is [System.InvalidOperationException] -and
        $Exception.Data[$script:ProcConnEngineFault] -and $null -eq $Exception.InnerException) {
        if ($Exception.Message -cmatch '\((EACCES|EPERM)\)') { 'PermissionDenied' }
        elseif ($Exception.Message -cmatch '\((ENOENT|ENOTDIR)\)') { 'ObjectNotFound' }
        else { $Failure }
    }
    else { 'NotSpecified' }
    [System.Management.Automation.ErrorRecord]::new($Exception, $ErrorId, $category, $Target)
}
