"""Finding advisors: the public directory of approved advisors and the sessions they sell."""
