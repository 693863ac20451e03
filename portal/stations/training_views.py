"""(built with issue 19)"""
