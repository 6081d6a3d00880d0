"""Load test of the server layout (see __main__)."""
