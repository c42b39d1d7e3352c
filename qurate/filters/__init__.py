"""Every keep/drop decision and every score, as datatrove pipeline steps."""
