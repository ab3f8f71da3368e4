"""The environment variables through which a runner hands a script its run and workspace.

Set by `compute/` (the runner and what starts it), read by the SDK (`Run.get_context()`,
`Workspace.from_env()`): the one contract between the two, so it lives below both.
"""

#: The id of the run a submitted script belongs to.
ENV_RUN_ID = "RUNYARD_RUN_ID"
#: The workspace config (config.json content) as JSON text.
ENV_WORKSPACE = "RUNYARD_WORKSPACE_CONFIG"
#: The folder of a process's logging spool (HTTP workspaces), handed on to the script.
ENV_SPOOL_DIR = "RUNYARD_SPOOL_DIR"
