"""Human reports: the Excel workbook, the HTML report and the matplotlib figures (the report extra)."""
