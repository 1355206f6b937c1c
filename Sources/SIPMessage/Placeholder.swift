// SIPMessage: being written.
