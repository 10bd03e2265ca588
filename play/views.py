from django.shortcuts import render

from play.models import Chat


def home(request):
    return render(request, "play/home.html", {"chats": Chat.objects.filter(archived=False)})
