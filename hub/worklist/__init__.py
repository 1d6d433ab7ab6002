"""The worklist: what needs a person today across the network of offices, the reminders staff send
an office about it, and the next acts of a case ranked by the creditor's expected net."""
