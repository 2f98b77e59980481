"""`slotwise`: the operators' command line (docs/cli.md). An operator's tool: installed with the dev extras, never in
the Lambda layer."""
