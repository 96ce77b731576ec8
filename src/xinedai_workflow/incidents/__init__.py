"""The operator's incident view: cases in `error`, per process version and element."""
