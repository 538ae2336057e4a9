"""CI definitions: jobs classified by what they run and how they are triggered."""
