"""The budget: residents see where the money goes and follow its execution; staff import it."""
