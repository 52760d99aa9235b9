echo report
