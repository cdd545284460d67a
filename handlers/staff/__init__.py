"""The staff side: report operations, the staff commands, and the report card."""
