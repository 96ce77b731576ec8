"""Credit-bureau reporting of defaults (征信), after the borrower was told (征信业管理条例 art. 15)."""
