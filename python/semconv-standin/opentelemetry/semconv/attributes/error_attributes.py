ERROR_TYPE = "error.type"
