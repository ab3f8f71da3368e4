"""The vocabulary of runyard: entities, statuses, limits and errors. No I/O."""
