HTTP_RESPONSE_STATUS_CODE = "http.response.status_code"
