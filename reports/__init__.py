"""Management reports, charts and exports."""
