"""What-if simulation: synthetic (or calibrated) portfolios run through one or two bundles on a
virtual clock with the real engine, sandbox, contact guard and worker, on a scratch database."""
