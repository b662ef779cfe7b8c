# The Linux release bundle as a user gets it: the Node single executable built from the current
# sources, packed by scripts/release.mjs, unpacked with tar; the module in it must run the
# executable beside it against a real listener.
BeforeAll {
    . (Join-Path $PSScriptRoot '_helpers.ps1')
    Remove-Item Env:PROCCONN_EXE -ErrorAction Ignore
    $dir = New-TestFolder
    $dist = Join-Path $dir 'dist'
    $node = (Get-Command node -CommandType Application | Select-Object -First 1).Source
    & $node (Join-Path $Repo 'scripts/build_exe.mjs') --target linux --out-dir $dist | Out-Null
    if ($LASTEXITCODE) { throw "build_exe.mjs failed with exit code $LASTEXITCODE" }
    # release.mjs packs both bundles: the Windows one gets a stand-in, this test opens the Linux one.
    Set-Content -LiteralPath (Join-Path $dist 'procconn-node.exe') -Value 'MZ stand-in'
    & $node (Join-Path $Repo 'scripts/release.mjs') --dist $dist | Out-Null
    if ($LASTEXITCODE) { throw "release.mjs failed with exit code $LASTEXITCODE" }
    $archive = Get-ChildItem $dist -Filter 'procconn-*-linux-x64.tar.gz'
    tar -xzf $archive.FullName -C $dir
    $bundle = Join-Path $dir ($archive.Name -replace '\.tar\.gz$', '')
    Remove-Module ProcConn -ErrorAction Ignore
    Import-Module (Join-Path $bundle 'ProcConn') -Force

    $listener = Start-TestListener
    $port = $listener.LocalEndpoint.Port
}
AfterAll { Remove-TestState -Listener $listener -Folder $dir }

Describe 'The ProcConn module of the Linux release bundle' {
    It 'is imported by its folder name and runs the bundled executable' {
        (Get-Module ProcConn).ModuleBase | Should -Be (Join-Path $bundle 'ProcConn')
        $out = @(Get-ProcConnection -LocalPort $port -OwningProcess $PID -Verbose 4>&1)
        $verbose = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        "$($verbose[0])" | Should -BeLike "procconn engine (module): $(Join-Path $bundle 'procconn') --format ndjson*"
        $rows = @($out | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $rows.Count | Should -Be 1
        $rows[0].State | Should -Be 'LISTEN'
        $rows[0].ProcessPath | Should -Be (Get-Process -Id $PID).Path
    }

    It 'writes snapshots with the bundled executable' {
        $file = Join-Path $dir 'bundle.csv'
        Export-ProcConnectionSnapshot -Path $file
        @(Import-Csv $file | Where-Object { $_.localPort -eq "$port" -and $_.pid -eq "$PID" }).Count | Should -Be 1
    }
}
