"""Tests of the local runtime's components against moto."""
