"""Recording: composite and per-track recordings of live meetings (issue 13).

`spec` is the contract between the control plane (REST, lifecycle, jobs: `services`,
`api`) and the media engine that records (`engine`), which runs outside the server's
event loop, in a recorder process. `storage` keeps the files (local or S3-compatible).
"""
