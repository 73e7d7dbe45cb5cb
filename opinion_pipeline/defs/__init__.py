"""One folder per dataset: its tables, sync logic, assets, checks, job and schedule."""
