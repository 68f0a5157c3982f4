"""Environments as code: a file of environments, exported, planned against and applied to any
Run:ai API (envadmin or a Run:ai control plane). Plain Python, no Django: the command line
(envadmin.cli) runs without settings, and the web admin uses the same engine."""
