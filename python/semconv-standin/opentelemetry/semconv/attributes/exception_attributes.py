EXCEPTION_ESCAPED = "exception.escaped"
EXCEPTION_MESSAGE = "exception.message"
EXCEPTION_STACKTRACE = "exception.stacktrace"
EXCEPTION_TYPE = "exception.type"
