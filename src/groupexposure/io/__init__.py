"""Reading: tables, capital.json and external ownership files (BODS, GLEIF) into a Portfolio."""
