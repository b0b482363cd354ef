"""The data model: table schemas, policies, issue codes and the portfolio as given (imports only model/)."""
