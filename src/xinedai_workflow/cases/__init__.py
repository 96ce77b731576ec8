"""Cases (process instances): starting, reading, cancelling, retrying, and the runtime behind them."""
