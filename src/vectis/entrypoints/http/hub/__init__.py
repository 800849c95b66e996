"""The hub: server-rendered pages for the MSP's techs and admins."""
