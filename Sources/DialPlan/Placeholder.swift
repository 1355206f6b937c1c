// DialPlan: being written.
