// SDP: being written.
