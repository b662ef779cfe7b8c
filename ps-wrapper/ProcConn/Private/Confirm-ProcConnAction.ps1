function Confirm-ProcConnAction {
    # ShouldProcess for a command that changes something: $true to go ahead, $false when the user
    # said no (or -WhatIf). Where PowerShell cannot ask (pwsh -NonInteractive, a scheduled or
    # remote session with $ConfirmPreference or -Confirm asking for a prompt), ShouldProcess
    # throws, and an exception in a condition ends only that statement: the command would go on
    # as though the answer were yes. That is a terminating error of the command instead. "Halt"
    # at the prompt still stops the pipeline as PowerShell does.
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [string] $Target,
        [Parameter(Mandatory)] [string] $Action
    )
    try {
        return $Cmdlet.ShouldProcess($Target, $Action)
    } catch {
        $cause = $_.Exception
        while ($cause -is [System.Management.Automation.MethodInvocationException] -and $cause.InnerException) {
            $cause = $cause.InnerException
        }
        if ($cause -is [System.Management.Automation.PipelineStoppedException]) { throw }
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.InvalidOperationException]::new(
                    "Cannot ask whether to $($Action.Substring(0, 1).ToLowerInvariant())$($Action.Substring(1)) ($Target): $($cause.Message) Nothing was done; give -Confirm:`$false to go ahead without asking, or -WhatIf to see what would be done.",
                    $cause),
                'ProcConnCannotConfirm', 'OperationStopped', $Target))
    }
}
