"""vireid.datasets"""
