from flask import Blueprint

bp = Blueprint("reminders", __name__, template_folder="templates")
