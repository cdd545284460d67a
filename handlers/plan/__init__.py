"""The action plan tracker (issue 12): measures, their progress, milestones, history, followers."""
