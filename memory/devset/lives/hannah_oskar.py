"""Hannah (a freelance illustrator with type 1 diabetes) and Oskar (a chef with a food truck)."""

HANNAH = """
##
>work1| Finished the covers for the otter picture book at 3am. The publisher wants "more whimsy" in the whiskers. I don't know what whimsy looks like in a whisker.
<Haha. Is that what you do all day, draw animals?
>work2| Mostly children's books, sometimes packaging. Last year I drew the fox on a crisp packet, my proudest and least paid moment.
##
>sugar1| My blood sugar crashed in the middle of the supermarket yesterday and I had to sit on the floor by the bananas eating jelly babies. Very dignified.
<Oh no, are you diabetic?
>sugar2| Type 1 since I was eleven. I've got a sensor on my arm now that beeps at my phone, but it was charging. Lesson learned.
##
>marcus1| Marcus and I are done. Six years. He's keeping the flat, I'm keeping the cat's blanket, the cat died in 2020 so it's really just a blanket.
<Oh Hannah, I'm so sorry. Are you okay?
>marcus2| Sort of. It was a long time coming. I'm sleeping on my sister Beth's sofa in Bristol for now.
##
>coast1| Been looking at flats by the sea. I can work from anywhere with a drawing tablet and the rents in Falmouth are half of Bristol.
<Ooh, the coast! Do you know anyone down there?
>coast2| Nobody, which is sort of the point. I grew up riding horses on the beach in Devon, I want that light again.
##
>horse| Had my first riding lesson in fifteen years on Sunday. I forgot how tall horses are. My thighs are ruined but I couldn't stop grinning.
<Haha, was it like riding a bike?
>horse2| More like riding a sofa that has opinions. Her name was Duchess and she stopped to eat every hedge.
##
>move1| Signed for the flat in Falmouth! Top floor, tiny, you can see a sliver of the harbour if you lean out of the bathroom window.
<Yay! When do you move?
>move2| End of the month. Beth is lending me her car and her boyfriend, in that order.
##
>rabbit1| I've adopted a rabbit from the rescue. He's called Biscuit, he's a lop with one ear up and one ear down, and he hates me.
<Haha, they take time! Where does he live?
>rabbit2| In the kitchen, behind a baby gate. He has chewed through my tablet charger already, so that's a deadline missed.
##
>sugar3| Bit of a scare, my sensor said 2.8 in the night and I woke up shaking. Biscuit was thumping his foot like an alarm, I swear he knew.
<That's scary. Does anyone check on you?
>sugar4| Beth has the app on her phone now, she gets an alert if I go low. Weird but reassuring.
##
>book| My own book got picked up! I wrote and drew it, it's about a lighthouse keeper who is scared of the dark. Comes out next spring.
<Hannah!! That's huge!
##
>dating| Went on a date with a guy from the sailing club. He talked about knots for an hour. Not the romantic kind.
<Haha, were they at least interesting knots?
##
>swim| Been swimming in the sea every morning with a group of women who call themselves the Blue Tits. It is freezing and I love it.
<You're braver than me!
>swim2| I eat a banana first and keep jelly babies in my tow float, after the supermarket thing I'm not taking chances.

? single-hop | What does Hannah do for work? | work1 work2
? single-hop | What did Hannah draw for a snack company? | work2
? single-hop | What health condition does Hannah have? | sugar2
? single-hop | How long has Hannah been diabetic? | sugar2
? single-hop | How long were Hannah and Marcus together? | marcus1
? single-hop | Where did Hannah stay after the breakup? | marcus2
? single-hop | Why did Hannah want to move to Falmouth? | coast1 coast2
? single-hop | What was the name of the horse Hannah rode? | horse2
? single-hop | What can Hannah see from her new flat? | move1
? single-hop | What kind of rabbit did Hannah adopt? | rabbit1
? single-hop | What did the rabbit chew? | rabbit2
? single-hop | What is Hannah's book about? | book
? single-hop | What did Hannah's date talk about? | dating
? single-hop | What is the name of Hannah's swimming group? | swim
? single-hop | Who gets alerts about Hannah's blood sugar? | sugar4
? temporal | When did Hannah have a low blood sugar episode in the supermarket? | sugar1
? temporal | When did Hannah go horse riding again? | horse
? temporal | When is Hannah moving to her new flat? | move2
? temporal | When does Hannah's book come out? | book
? multi-hop | What has Hannah's sister done to help her this year? | marcus2 move2 sugar4
? multi-hop | How does Hannah manage her diabetes? | sugar2 sugar4 swim2
? multi-hop | What animals have been part of Hannah's life? | marcus1 horse2 rabbit1
? multi-hop | How did Hannah's living situation change after the breakup? | marcus2 move1
? multi-hop | What did Hannah do as a child in Devon, and has she returned to it? | coast2 horse
? open-domain | Should Hannah carry snacks on a long walk? | sugar1 sugar2
? open-domain | Is Hannah an outdoorsy person? | horse swim
? open-domain | Would Hannah rather live in a big city or a small coastal town? | coast1 coast2
? open-domain | Is Hannah's rabbit attached to her? | sugar3
? open-domain | Is Hannah likely to be single now? | marcus1 dating
"""

OSKAR = """
##
>truck1| The truck broke down outside the football ground an hour before kick-off. Three hundred hungry fans and me with a dead generator.
<Disaster! What do you sell?
>truck2| Swedish meatballs and smoked fish wraps, my gran's recipes. The truck is called Lilla Kök, little kitchen, nobody can pronounce it.
##
>felix1| Felix starts school in September and he's already asked if he can bring the truck for show and tell.
<Haha! How old is he now?
>felix2| Four and three quarters, the quarters are very important to him. He wants to be a bin man when he grows up, I've never been prouder.
##
>sober1| Three years sober today. I got myself a cake and ate it alone in the truck at 6am, which is either sad or beautiful.
<That's incredible, well done. Genuinely.
>sober2| Kitchens are full of drink, it took leaving the restaurant to stop. The truck closes at nine, nobody does shots after.
##
>dad1| Dad called me by my brother's name again on the phone. The doctors used the word dementia for the first time on Thursday.
<I'm so sorry, Oskar. How's your mum holding up?
>dad2| She's pretending it's fine, that's how Swedes do grief. My brother Erik is flying back from Oslo next week to help.
##
>sail1| Signed up for a sailing course on the estuary. Three weeks in and I capsized twice. My instructor is nineteen and calls me "mate" with pity.
<Haha, why sailing?
>sail2| Dad sailed every summer when we were kids in Gothenburg. I want to take him out on the water while he still remembers it.
##
>festival| Did the food festival at the weekend and sold out of meatballs by two. Had to send Erik to the cash and carry for more mince.
<Busy weekend! Is Erik still around then?
##
>felix3| First day of school. Felix walked in without looking back, and I cried in the truck for twenty minutes.
<Aww. That's a parent rite of passage.
##
>partner| Lina has gone back to work at the hospital pharmacy, so I'm doing the school run in the truck. Felix's friends think it's the coolest thing ever.
<Haha, the food truck school run!
##
>dad3| Took Dad out on a little boat on Sunday. He didn't know what year it was, but he knew exactly how to trim a sail. He laughed the whole time.
<That's beautiful, Oskar.
>dad4| Best day I've had with him in years. I'm keeping that one.
##
>award| Lilla Kök won best street food at the county awards! Gran's meatballs, officially award-winning. I've put the certificate in the hatch window.
<Congratulations!! She'd be proud.
##
>sober3| A wedding on Saturday, open bar, everybody doing toasts. I had elderflower and drove home. Used to be I'd be the last one standing.
<Proud of you.
##
>felix4| Felix has announced he's vegetarian because of a book about a pig. He still eats the meatballs. We don't discuss it.

? single-hop | What food does Oskar sell? | truck2
? single-hop | What is the name of Oskar's truck and what does it mean? | truck2
? single-hop | Where did Oskar's truck break down? | truck1
? single-hop | How old is Oskar's son? | felix2
? single-hop | What does Felix want to be when he grows up? | felix2
? single-hop | How long has Oskar been sober? | sober1
? single-hop | Why did Oskar leave restaurant work? | sober2
? single-hop | What illness does Oskar's father have? | dad1
? single-hop | Where does Oskar's brother live? | dad2
? single-hop | Where did Oskar grow up? | sail2
? single-hop | Why is Oskar learning to sail? | sail2
? single-hop | Where does Oskar's partner work? | partner
? single-hop | What award did Oskar's business win? | award
? single-hop | What did Oskar drink at the wedding? | sober3
? single-hop | Why did Felix decide to become vegetarian? | felix4
? temporal | When was Oskar's father diagnosed? | dad1
? temporal | When did Oskar sell out at the food festival? | festival
? temporal | When did Oskar take his father sailing? | dad3
? temporal | When was the wedding with the open bar? | sober3
? multi-hop | How has Oskar's brother helped the family? | dad2 festival
? multi-hop | How is Oskar's grandmother part of his business? | truck2 award
? multi-hop | How did Oskar's sailing lessons pay off? | sail2 dad3
? multi-hop | How did Felix start school? | felix1 felix3
? multi-hop | How does Oskar stay sober in social situations? | sober2 sober3
? open-domain | Would Oskar want a bottle of wine as a gift? | sober1 sober2
? open-domain | Does Oskar have Scandinavian roots? | truck2 sail2
? open-domain | Is Oskar an emotional person? | felix3 sober1
? open-domain | Is Oskar's father's memory getting worse? | dad1 dad3
? open-domain | Is Felix a confident child? | felix3 felix2
"""
