// SIPTransaction: being written.
