"""Who the characters are and how they think."""
